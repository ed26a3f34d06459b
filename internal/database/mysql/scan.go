package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/stewardhealth/steward/internal/database"
)

// Scan streams every row of t, all columns in t.Columns order, over the text protocol.
//
// It works on the driver's connection directly: the driver hands each value over as a slice
// of its read buffer (or an int64, uint64, float32 or float64 it has parsed), which Scan
// converts once into the Row. When fn fails, the connection is dropped rather than drained.
func (d *DB) Scan(ctx context.Context, t *database.Table, fn func(database.Row) error) error {
	if len(t.Columns) == 0 {
		return nil
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	query := "SELECT " + quoteIdents(names) + " FROM " + quoteIdent(t.Name)
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return d.errorf("read "+t.Name+" of", err)
	}
	var fnErr, readErr error
	err = conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("the MySQL driver cannot query")
		}
		rows, err := q.QueryContext(ctx, query, nil)
		if err != nil {
			return err
		}
		dest := make([]driver.Value, len(t.Columns))
		row := make(database.Row, len(t.Columns))
		for {
			if err := rows.Next(dest); err != nil {
				if errors.Is(err, io.EOF) {
					return rows.Close()
				}
				readErr = err
				return driver.ErrBadConn
			}
			for i, v := range dest {
				row[i] = value(t.Columns[i], v)
			}
			if err := fn(row); err != nil {
				fnErr = err
				return driver.ErrBadConn // drop the connection with the rest of the result unread
			}
		}
	})
	conn.Close()
	if fnErr != nil {
		return fnErr
	}
	if readErr != nil {
		err = readErr
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return d.errorf("read "+t.Name+" of", err)
	}
	return nil
}

// value converts a driver value to the Row type for column c; see the package comment.
func value(c *database.Column, v driver.Value) any {
	switch v := v.(type) {
	case nil:
		return nil
	case []byte:
		switch c.Type {
		case database.Bytes:
			return append([]byte{}, v...)
		case database.Integer:
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return n
			}
		case database.Float:
			if f, err := strconv.ParseFloat(string(v), 64); err == nil {
				return f
			}
		}
		return string(v)
	case int64:
		if c.Type == database.Integer {
			return v
		}
		return strconv.FormatInt(v, 10) // YEAR, or a number in a column of another kind
	case uint64:
		if c.Type == database.Integer && v <= math.MaxInt64 {
			return int64(v)
		}
		return strconv.FormatUint(v, 10)
	case float32:
		// The shortest form that reads back as the same float32, the one the server printed.
		s := strconv.FormatFloat(float64(v), 'g', -1, 32)
		if c.Type != database.Float {
			return s
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case float64:
		if c.Type != database.Float {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return v
	}
	return fmt.Sprint(v)
}
