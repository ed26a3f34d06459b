// Package sqlserver writes the T-SQL that does Steward's work inside a SQL Server, which
// Steward does not connect to: a script that applies a de-identification policy in place
// (DeidScript), and the scripts that back the de-identified copy up to an Azure container
// through a SQL Agent job and clean up afterwards (BackupScript, CleanupScript).
//
// Names from the policy or the command line go into the scripts bracket-quoted with ]
// doubled, strings as N'…' literals with ' doubled; where a script builds a statement at run
// time it uses QUOTENAME. Values from a database never appear in a script.
package sqlserver

import (
	"encoding/hex"
	"strings"
)

// ident quotes a SQL Server identifier: [name] with ] doubled, as QUOTENAME does.
func ident(s string) string { return "[" + strings.ReplaceAll(s, "]", "]]") + "]" }

// lit is a Unicode string literal.
func lit(s string) string { return "N'" + strings.ReplaceAll(s, "'", "''") + "'" }

// alit is a non-Unicode string literal, for the few places SQL Server wants varchar.
func alit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// binLit is a binary literal.
func binLit(b []byte) string { return "0x" + hex.EncodeToString(b) }

// comment makes text safe inside a -- comment line.
func comment(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
