package database

import "testing"

func TestFixedWidth(t *testing.T) {
	for native, want := range map[string]bool{
		"character(12)": true, "char(12)": true, "CHAR(12)": true, "NCHAR(55)": true, "NATIVE CHARACTER(70)": true,
		"national character(3)": true, "bpchar": true,
		"character varying(12)": false, "varchar(12)": false, "VARYING CHARACTER(255)": false, "NVARCHAR(100)": false,
		"text": false, "CLOB": false,
	} {
		c := &Column{Name: "c", Type: Text, Native: native}
		if got := c.FixedWidth(); got != want {
			t.Errorf("%s: FixedWidth %v, want %v", native, got, want)
		}
	}
	if (&Column{Type: Integer, Native: "char(1)"}).FixedWidth() {
		t.Error("a non-text column is fixed-width text")
	}
}
