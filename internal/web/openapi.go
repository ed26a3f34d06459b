package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sync"
)

// openAPI is the OpenAPI document: openapi.json with the fragments of openapi.d merged in.
var openAPI = sync.OnceValues(func() ([]byte, error) {
	var doc map[string]any
	b, err := files.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	names, _ := fs.Glob(files, "openapi.d/*.json")
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := json.Unmarshal(b, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := merge(doc, "paths", frag["paths"], path.Base(name)); err != nil {
			return nil, err
		}
		if c, ok := frag["components"].(map[string]any); ok {
			comps, _ := doc["components"].(map[string]any)
			if err := merge(comps, "schemas", c["schemas"], path.Base(name)); err != nil {
				return nil, err
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
})

// merge adds the entries of from to into[key], refusing to redefine one.
func merge(into map[string]any, key string, from any, name string) error {
	add, _ := from.(map[string]any)
	if len(add) == 0 {
		return nil
	}
	have, _ := into[key].(map[string]any)
	if have == nil {
		have = map[string]any{}
		into[key] = have
	}
	for k, v := range add {
		if _, dup := have[k]; dup {
			return fmt.Errorf("openapi.d/%s: %s %s is defined twice", name, key, k)
		}
		have[k] = v
	}
	return nil
}
