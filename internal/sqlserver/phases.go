package sqlserver

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
)

// The de-identification script runs in SQLCMD mode (sqlcmd, or SSMS with Query ▸ SQLCMD Mode)
// in four batches, on one connection, so that the session's temporary tables last from one to
// the next:
//
//  1. prepare: refuse what would keep originals (change data capture, system-versioned
//     tables), turn Query Store off and clear it (it lives in the database, so it travels in
//     the backup, and it keeps query texts and plans with their parameter values), set SIMPLE
//     recovery (so each table's transaction can leave the log), make the progress table and
//     refuse a database already changed with another key or policy;
//  2. key: the only batch whose text holds the key; it puts the HMAC pads into the session's
//     temporary table #steward_key and nowhere else;
//  3. work: self-test, checks, then foreign keys that touch a rewritten column saved and
//     dropped, the rewritten tables' triggers saved and disabled, and each table rewritten in a
//     transaction of its own that also records it in dbo.steward_progress — an interrupted run
//     skips, when given again, every step already recorded, so no value is transformed twice;
//  4. finish: foreign keys re-created WITH CHECK (every row validated) and triggers re-enabled,
//     every rewritten table and index rebuilt, sp_clean_db_free_space, CHECKPOINT, the log
//     shrunk, Query Store cleared again, the database's plan cache cleared, #steward_key dropped.

// runInfo is what the progress table records of a run: the key's fingerprint and the
// policy's digest, so that a run with another key or policy is refused instead of applied on
// top.
type runInfo struct{ fingerprint, policy string }

func policyDigest(p *policy.Policy) string {
	sum := sha256.Sum256(p.Source)
	return hex.EncodeToString(sum[:8])
}

// progress is the INSERT that records a finished step.
func (r runInfo) progress(step, rows string) string {
	return "INSERT dbo.steward_progress (step, key_fingerprint, policy_sha256, rows_changed) SELECT " + lit(step) + ", '" + r.fingerprint + "', '" + r.policy + "', " + rows + ";"
}

// done is the condition that a step is recorded.
func done(step string) string {
	return "EXISTS (SELECT 1 FROM dbo.steward_progress WHERE step = " + lit(step) + ")"
}

// stewardTables are the tables the script keeps in the database; the policy's default: error
// check does not count them.
var stewardTables = []string{"steward_progress", "steward_fk", "steward_trigger"}

func writeHeader(s *scriptWriter, o DeidOptions) {
	s.f("-- Steward: de-identification of a SQL Server database in place, by policy %s\n", comment(o.Policy.File))
	s.f("-- policy sha256 %s, key fingerprint %s. Generated; do not edit.\n", policyDigest(o.Policy), o.Key.Fingerprint())
	s.f(`--
-- Run it on the standalone copy only, on SQL Server 2019 or later (it needs UTF-8 collations to
-- hash text as the engine does), in SQLCMD mode, as a member of db_owner (sysadmin for the
-- plan-cache and recovery steps). %s
--
-- What it does, in order (each step recorded in dbo.steward_progress; run it again after an
-- interruption and it goes on where it stopped, never transforming a value twice; a run with
-- another key or policy is refused):
--   refuses change data capture and system-versioned policy tables (both keep the originals);
--   Query Store off and cleared, SIMPLE recovery;
--   self-test against values Steward's engine computed; every table, column and type checked;
--   the two ends of every foreign key on a rewritten column checked to get the same rule;
--   those foreign keys saved and dropped, the rewritten tables' triggers saved and disabled;
--   each table rewritten in a transaction of its own, CHECKPOINT after each;
--   foreign keys re-created WITH CHECK, triggers re-enabled; every rewritten table and its
--   indexes rebuilt; sp_clean_db_free_space; CHECKPOINT; the log shrunk; the plan cache of
--   the database cleared; the key dropped with the session's #steward_key.
-- Then back it up (steward transfer script). Rules reproduced: %s.

:on error exit
`, keyHowTo(o), Covered)
	if o.EmbedKey == nil {
		s.f(":r $(StewardKeyFile)\n")
	}
	s.f("SET NOCOUNT ON;\nSET XACT_ABORT ON;\n\n")
}

func keyHowTo(o DeidOptions) string {
	if o.EmbedKey != nil {
		return "THIS SCRIPT CONTAINS THE SECRET KEY: delete it after the run.\n--   sqlcmd -S SERVER -d DATABASE -b -f 65001 -i deid.sql"
	}
	return `The key is read from a sqlcmd file holding
-- ':setvar StewardKey 0x…' (written by 'steward deid script --key-include FILE', readable by its
-- owner only), named by the variable StewardKeyFile, never on a command line:
--   Linux:   sqlcmd -S SERVER -d DATABASE -b -f 65001 -v StewardKeyFile=/secure/steward-key.sql -i deid.sql
--   Windows: sqlcmd -S SERVER -d DATABASE -b -f 65001 -v StewardKeyFile="C:\secure\steward-key.sql" -i deid.sql
--   SSMS:    Query > SQLCMD Mode, connected to DATABASE, then run these two lines:
--              :setvar StewardKeyFile "C:\secure\steward-key.sql"
--              :r "C:\scripts\deid.sql"`
}

// KeyInclude is the sqlcmd file that gives the script its key: a :setvar of StewardKey to the
// key's bytes in hex, which the script reads with :r $(StewardKeyFile).
func KeyInclude(key []byte) string {
	return ":setvar StewardKey " + binLit(key) + "\n"
}

func writePrepare(s *scriptWriter, p *policy.Policy, run runInfo) {
	s.f("-- Batch 1: prepare.\n")
	var tables []string
	for _, t := range p.Tables {
		schema, table := splitTable(t.Name)
		tables = append(tables, "OBJECT_ID("+lit(ident(schema)+"."+ident(table))+")")
	}
	s.f(`IF (SELECT is_cdc_enabled FROM sys.databases WHERE database_id = DB_ID()) = 1
BEGIN
    RAISERROR(N'steward: change data capture is enabled: it copies every change, the original values included, into cdc tables; disable it first (EXEC sys.sp_cdc_disable_db)', 16, 1);
    RETURN;
END;
IF EXISTS (SELECT 1 FROM sys.tables WHERE temporal_type = 2 AND object_id IN (%s))
BEGIN
    RAISERROR(N'steward: a policy table is system-versioned: every UPDATE would copy the original row into its history table; turn SYSTEM_VERSIONING off and put the history table in the policy', 16, 1);
    RETURN;
END;
IF EXISTS (SELECT 1 FROM sys.database_query_store_options WHERE actual_state <> 0)
BEGIN
    ALTER DATABASE CURRENT SET QUERY_STORE CLEAR ALL;
    ALTER DATABASE CURRENT SET QUERY_STORE = OFF;
    PRINT N'steward: Query Store cleared and turned off (it keeps query texts and plans inside the database)';
END;
IF (SELECT recovery_model FROM sys.databases WHERE database_id = DB_ID()) <> 3
BEGIN
    ALTER DATABASE CURRENT SET RECOVERY SIMPLE;
    PRINT N'steward: recovery model set to SIMPLE (a standalone copy needs no log backups)';
END;
IF OBJECT_ID(N'dbo.steward_progress', N'U') IS NULL
    CREATE TABLE dbo.steward_progress (step nvarchar(450) NOT NULL PRIMARY KEY, key_fingerprint varchar(16) NOT NULL,
        policy_sha256 varchar(16) NOT NULL, rows_changed bigint NULL, done_at datetime2(0) NOT NULL DEFAULT SYSUTCDATETIME());
IF EXISTS (SELECT 1 FROM dbo.steward_progress WHERE key_fingerprint <> '%s' OR policy_sha256 <> '%s')
BEGIN
    RAISERROR(N'steward: this database was de-identified, in part or whole, with another key or policy (see dbo.steward_progress): a run on top would transform values twice; start again from a fresh copy', 16, 1);
    RETURN;
END;
IF %s
    PRINT N'steward: this database was de-identified by this script before; the steps recorded in dbo.steward_progress are skipped';
GO

`, strings.Join(tables, ", "), run.fingerprint, run.policy, done("finished"))
}

func writeKey(s *scriptWriter, o DeidOptions) {
	s.f("-- Batch 2: the key, into the session's #steward_key only (the one batch whose text holds it).\n")
	s.f("IF OBJECT_ID(N'tempdb..#steward_key') IS NOT NULL DROP TABLE #steward_key;\n")
	s.f("CREATE TABLE #steward_key (ipad varbinary(64) NOT NULL, opad varbinary(64) NOT NULL);\n")
	if o.EmbedKey == nil {
		s.f("DECLARE @key varbinary(max) = CONVERT(varbinary(max), '$(StewardKey)', 1);\n")
	} else {
		s.f("DECLARE @key varbinary(max) = %s;\n", binLit(o.EmbedKey))
	}
	s.f(`DECLARE @k binary(64), @ipad varbinary(64) = 0x, @opad varbinary(64) = 0x, @i int = 1;
IF @key IS NULL OR DATALENGTH(@key) < %d
BEGIN
    RAISERROR(N'steward: no key, or a key shorter than %d bytes: give StewardKeyFile, the file steward deid script --key-include wrote', 16, 1);
    RETURN;
END;
IF DATALENGTH(@key) > 64 SET @key = HASHBYTES('SHA2_256', @key);
SET @k = CONVERT(binary(64), @key);
WHILE @i <= 64
BEGIN
    SET @ipad = @ipad + CONVERT(binary(1), CONVERT(tinyint, CONVERT(tinyint, SUBSTRING(@k, @i, 1)) ^ 54));
    SET @opad = @opad + CONVERT(binary(1), CONVERT(tinyint, CONVERT(tinyint, SUBSTRING(@k, @i, 1)) ^ 92));
    SET @i += 1;
END;
INSERT #steward_key VALUES (@ipad, @opad);
GO

-- Batch 3: self-test, checks, then the work, each step recorded.
`, transform.MinKeyLen, transform.MinKeyLen)
}

// loop runs, in order, every statement in column col of table t.
func loop(s *scriptWriter, table, col string) {
	s.f("    SET @id = 0;\n    WHILE 1 = 1\n    BEGIN\n        SELECT TOP (1) @id = id, @sql = %s FROM %s WHERE id > @id ORDER BY id;\n        IF @@ROWCOUNT = 0 BREAK;\n        EXEC sp_executesql @sql;\n    END;\n", col, table)
}

func writeConstraints(s *scriptWriter, run runInfo) {
	s.f(`
-- Foreign keys with a rewritten column at either end: saved in dbo.steward_fk, then dropped, in
-- one transaction (an UPDATE of a referenced key would fail with error 547, and a cascading one
-- would rewrite the referencing rows a second time).
IF NOT %s
BEGIN
    BEGIN TRANSACTION;
    IF OBJECT_ID(N'dbo.steward_fk', N'U') IS NULL
        CREATE TABLE dbo.steward_fk (id int IDENTITY PRIMARY KEY, name nvarchar(600) NOT NULL, drop_sql nvarchar(max) NOT NULL, create_sql nvarchar(max) NOT NULL);
    INSERT dbo.steward_fk (name, drop_sql, create_sql)
    SELECT QUOTENAME(OBJECT_SCHEMA_NAME(fk.object_id)) + N'.' + QUOTENAME(fk.name),
        N'ALTER TABLE ' + n.pt + N' DROP CONSTRAINT ' + QUOTENAME(fk.name) + N';',
        N'ALTER TABLE ' + n.pt + CASE WHEN fk.is_not_trusted = 1 OR fk.is_disabled = 1 THEN N' WITH NOCHECK' ELSE N' WITH CHECK' END
            + N' ADD CONSTRAINT ' + QUOTENAME(fk.name) + N' FOREIGN KEY (' + c.cols + N') REFERENCES ' + n.rt + N' (' + c.refcols + N')'
            + N' ON DELETE ' + REPLACE(fk.delete_referential_action_desc, N'_', N' ') + N' ON UPDATE ' + REPLACE(fk.update_referential_action_desc, N'_', N' ')
            + CASE WHEN fk.is_not_for_replication = 1 THEN N' NOT FOR REPLICATION' ELSE N'' END + N';'
            + CASE WHEN fk.is_disabled = 1 THEN N' ALTER TABLE ' + n.pt + N' NOCHECK CONSTRAINT ' + QUOTENAME(fk.name) + N';' ELSE N'' END
    FROM sys.foreign_keys AS fk
    CROSS APPLY (SELECT QUOTENAME(OBJECT_SCHEMA_NAME(fk.parent_object_id)) + N'.' + QUOTENAME(OBJECT_NAME(fk.parent_object_id)) AS pt,
        QUOTENAME(OBJECT_SCHEMA_NAME(fk.referenced_object_id)) + N'.' + QUOTENAME(OBJECT_NAME(fk.referenced_object_id)) AS rt) AS n
    CROSS APPLY (SELECT STRING_AGG(CONVERT(nvarchar(max), QUOTENAME(COL_NAME(k.parent_object_id, k.parent_column_id))), N', ') WITHIN GROUP (ORDER BY k.constraint_column_id) AS cols,
        STRING_AGG(CONVERT(nvarchar(max), QUOTENAME(COL_NAME(k.referenced_object_id, k.referenced_column_id))), N', ') WITHIN GROUP (ORDER BY k.constraint_column_id) AS refcols
        FROM sys.foreign_key_columns AS k WHERE k.constraint_object_id = fk.object_id) AS c
    WHERE EXISTS (SELECT 1 FROM sys.foreign_key_columns AS k JOIN #steward_cols AS r
        ON (r.object_id = k.parent_object_id AND r.column_id = k.parent_column_id) OR (r.object_id = k.referenced_object_id AND r.column_id = k.referenced_column_id)
        WHERE k.constraint_object_id = fk.object_id)
    ORDER BY fk.object_id;
`, done("foreign keys dropped"))
	loop(s, "dbo.steward_fk", "drop_sql")
	s.f(`    %s
    COMMIT TRANSACTION;
    PRINT CONCAT(N'steward: ', (SELECT COUNT(*) FROM dbo.steward_fk), N' foreign keys saved and dropped');
END;

-- DML triggers of the rewritten tables that are enabled: saved in dbo.steward_trigger, then
-- disabled (an audit trigger would copy the originals into its own table).
IF NOT %s
BEGIN
    BEGIN TRANSACTION;
    IF OBJECT_ID(N'dbo.steward_trigger', N'U') IS NULL
        CREATE TABLE dbo.steward_trigger (id int IDENTITY PRIMARY KEY, disable_sql nvarchar(max) NOT NULL, enable_sql nvarchar(max) NOT NULL);
    INSERT dbo.steward_trigger (disable_sql, enable_sql)
    SELECT N'DISABLE TRIGGER ' + n.tr + N' ON ' + n.t + N';', N'ENABLE TRIGGER ' + n.tr + N' ON ' + n.t + N';'
    FROM sys.triggers AS tr
    CROSS APPLY (SELECT QUOTENAME(OBJECT_SCHEMA_NAME(tr.object_id)) + N'.' + QUOTENAME(tr.name) AS tr,
        QUOTENAME(OBJECT_SCHEMA_NAME(tr.parent_id)) + N'.' + QUOTENAME(OBJECT_NAME(tr.parent_id)) AS t) AS n
    WHERE tr.parent_class = 1 AND tr.is_disabled = 0 AND tr.parent_id IN (SELECT object_id FROM #steward_tables)
    ORDER BY tr.object_id;
`, run.progress("foreign keys dropped", "(SELECT COUNT_BIG(*) FROM dbo.steward_fk)"), done("triggers disabled"))
	loop(s, "dbo.steward_trigger", "disable_sql")
	s.f(`    %s
    COMMIT TRANSACTION;
    PRINT CONCAT(N'steward: ', (SELECT COUNT(*) FROM dbo.steward_trigger), N' triggers saved and disabled');
END;
`, run.progress("triggers disabled", "(SELECT COUNT_BIG(*) FROM dbo.steward_trigger)"))
}

func writeUpdates(s *scriptWriter, cols []column, run runInfo) {
	s.f("\n-- Updates: one transaction per table, recorded in dbo.steward_progress with it.\n")
	for i := 0; i < len(cols); {
		j := i
		for j < len(cols) && cols[j].schema == cols[i].schema && cols[j].table == cols[i].table {
			j++
		}
		table, group := cols[i], cols[i:j]
		i = j
		changed := false
		for _, c := range group {
			changed = changed || c.rule.Transforms()
		}
		qt := ident(table.schema) + "." + ident(table.table)
		if !changed {
			s.f("-- %s: every column kept\n", comment(qt))
			continue
		}
		step := "table " + qt
		s.f("\n-- %s\nIF %s\n    PRINT CONCAT(N'steward: ', %s, N' was de-identified by an earlier run: skipped');\nELSE\nBEGIN\n    SET @set = N'';\n", comment(qt), done(step), lit(table.schema+"."+table.table))
		for _, c := range group {
			if !c.rule.Transforms() {
				continue
			}
			s.f("    SELECT @len = w, @type = type, @nullable = nullable, @in = input, @by = by_input FROM @cols WHERE id = %d;\n", c.id)
			if c.rule.Kind == policy.Null {
				s.f("    SET @set += N', ' + QUOTENAME(%s) + N' = ' + CASE WHEN @nullable = 'YES' THEN N'NULL' WHEN @type IN (N'char', N'varchar', N'nchar', N'nvarchar') THEN N'N''''' WHEN @type IN (N'binary', N'varbinary') THEN N'0x' ELSE N'0' END;\n", lit(c.name))
				continue
			}
			s.f("    SELECT @ws = CONVERT(nvarchar(10), @len), @cut = CONVERT(nvarchar(10), CASE WHEN @len > 0 THEN @len ELSE 4000 END), @hw = CONVERT(nvarchar(10), CASE WHEN @len > 0 AND @len < 64 THEN @len ELSE 64 END);\n")
			s.f("    SET @set += N', ' + QUOTENAME(%s) + N' = ' + REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(%s, N'{col}', @in), N'{by}', ISNULL(@by, N'NULL')), N'{w}', @ws), N'{cut}', @cut), N'{hw}', @hw);\n", lit(c.name), lit(c.expr))
		}
		s.f("    SET @sql = N'UPDATE ' + %s + N' SET ' + STUFF(@set, 1, 2, N'') + N'; SET @n = ROWCOUNT_BIG();';\n", lit(qt))
		s.f("    BEGIN TRANSACTION;\n    EXEC sp_executesql @sql, N'@n bigint OUTPUT', @n OUTPUT;\n    %s\n    COMMIT TRANSACTION;\n    CHECKPOINT;\n", run.progress(step, "@n"))
		s.f("    PRINT CONCAT(N'steward: ', %s, N': ', @n, N' rows de-identified');\nEND;\n", lit(table.schema+"."+table.table))
	}
	s.f("GO\n\n")
}

func writeFinish(s *scriptWriter, run runInfo) {
	s.f(`-- Batch 4: finish.
DECLARE @sql nvarchar(max), @id int, @db sysname = DB_NAME();
IF NOT %s
BEGIN
    BEGIN TRANSACTION;
    -- Re-created WITH CHECK: every row is validated (error 547 names a foreign key whose join broke).
`, done("constraints restored"))
	loop(s, "dbo.steward_fk", "create_sql")
	loop(s, "dbo.steward_trigger", "enable_sql")
	s.f(`    %s
    DROP TABLE dbo.steward_fk;
    DROP TABLE dbo.steward_trigger;
    COMMIT TRANSACTION;
    PRINT N'steward: foreign keys re-created and validated, triggers re-enabled';
END;

-- Every rewritten table and all its indexes rebuilt: the rows are written anew and the pages
-- the UPDATEs left (old row versions, ghost records, forwarded rows) are given back.
IF OBJECT_ID(N'tempdb..#steward_rebuild') IS NOT NULL DROP TABLE #steward_rebuild;
CREATE TABLE #steward_rebuild (id int IDENTITY PRIMARY KEY, stmt nvarchar(max) NOT NULL);
INSERT #steward_rebuild (stmt)
SELECT CASE WHEN EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = st.object_id AND index_id = 1)
    THEN N'ALTER INDEX ALL ON ' + q.t + N' REBUILD;' -- the clustered index and every other one
    ELSE N'ALTER TABLE ' + q.t + N' REBUILD;' END -- a heap, and with it its nonclustered indexes
FROM #steward_tables AS st CROSS APPLY (SELECT QUOTENAME(OBJECT_SCHEMA_NAME(st.object_id)) + N'.' + QUOTENAME(OBJECT_NAME(st.object_id)) AS t) AS q
ORDER BY st.object_id;
`, run.progress("constraints restored", "NULL"))
	loop(s, "#steward_rebuild", "stmt")
	s.f(`PRINT N'steward: rewritten tables and their indexes rebuilt';
-- Residue: sp_clean_db_free_space "removes residual information left on database pages because of
-- data modification routines" in every page of every file; then the log is emptied and shrunk.
EXEC sys.sp_clean_db_free_space @dbname = @db;
CHECKPOINT;
IF OBJECT_ID(N'tempdb..#steward_logs') IS NOT NULL DROP TABLE #steward_logs;
CREATE TABLE #steward_logs (id int IDENTITY PRIMARY KEY, stmt nvarchar(max) NOT NULL);
INSERT #steward_logs (stmt) SELECT N'DBCC SHRINKFILE (' + CONVERT(nvarchar(10), file_id) + N', 1) WITH NO_INFOMSGS;' FROM sys.database_files WHERE type = 1;
`)
	loop(s, "#steward_logs", "stmt")
	s.f(`CHECKPOINT;
PRINT N'steward: free space cleaned, log checkpointed and shrunk';
-- Query Store stays off and empty; the database's cached plans are dropped; so is the key.
IF EXISTS (SELECT 1 FROM sys.database_query_store_options WHERE actual_state <> 0)
BEGIN
    ALTER DATABASE CURRENT SET QUERY_STORE CLEAR ALL;
    ALTER DATABASE CURRENT SET QUERY_STORE = OFF;
END;
ALTER DATABASE SCOPED CONFIGURATION CLEAR PROCEDURE_CACHE;
DROP TABLE #steward_key;
IF NOT %s
    %s
PRINT N'steward: done; dbo.steward_progress records the steps (table names, the key''s fingerprint, the policy''s digest, row counts; no value)';
GO
`, done("finished"), run.progress("finished", "NULL"))
}
