package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Property
	}{
		{"equals", "a=b", []Property{{"a", "b", 1}}},
		{"colon", "a:b", []Property{{"a", "b", 1}}},
		{"space", "a b", []Property{{"a", "b", 1}}},
		{"spaces around separator", "  a  =  b c  ", []Property{{"a", "b c  ", 1}}},
		{"whitespace then colon", "a \t: b", []Property{{"a", "b", 1}}},
		{"empty value", "a=", []Property{{"a", "", 1}}},
		{"key only", "a", []Property{{"a", "", 1}}},
		{"comments and blanks", "# c\n! c\n\n   # indented\na=1", []Property{{"a", "1", 5}}},
		{"continuation", "a=1,\\\n    2,\\\n\t3\nb=4", []Property{{"a", "1,2,3", 1}, {"b", "4", 4}}},
		{"escaped backslash is not continuation", "a=x\\\\\nb=y", []Property{{"a", `x\`, 1}, {"b", "y", 2}}},
		{"escaped separator in key", `a\=b\:c\ d=e`, []Property{{"a=b:c d", "e", 1}}},
		{"escapes in value", `a=t\tn\nu\u0041\q`, []Property{{"a", "t\tn\nuAq", 1}}},
		{"second separator kept", "a==b", []Property{{"a", "=b", 1}}},
		{"crlf", "a=1\r\nb=2\r\n", []Property{{"a", "1", 1}, {"b", "2", 2}}},
		{"continuation at eof", "a=1\\", []Property{{"a", "1", 1}}},
		{"comment not continued", "# x\\\na=1", []Property{{"a", "1", 2}}},
		{"repeat kept in order", "a=1\na=2", []Property{{"a", "1", 1}, {"a", "2", 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProperties(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParsePropertiesBadUnicode(t *testing.T) {
	for _, in := range []string{`a=\u12`, `a=\uzzzz`} {
		if _, err := ParseProperties(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: err = %v, want a line 1 error", in, err)
		}
	}
}
