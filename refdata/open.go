package refdata

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/meridian/meridian/config"
)

// Open builds the tables cfg declares (reference:) with a cache bounded by
// reference_cache.max_cost; cfg must have passed Validate. Each file is
// read whole and indexed now, so a missing file, a bad row or a repeated
// key stops startup with an error placed at the table's entry in the
// config file. When fsys is nil, files are read from disk, a relative path
// being relative to the config file (config.RefPath); otherwise they are
// opened in fsys by the path as written (e.g. the embedded examples).
func Open(cfg *config.Config, fsys fs.FS) (*Tables, error) {
	tables := make([]Table, 0, len(cfg.Reference))
	for i, t := range cfg.Reference {
		at := fmt.Sprintf("reference[%d]", i)
		var (
			data []byte
			err  error
			name = t.File
		)
		if fsys != nil {
			data, err = fs.ReadFile(fsys, t.File)
		} else {
			name = cfg.RefPath(t)
			data, err = os.ReadFile(name)
		}
		if err != nil {
			return nil, cfg.ErrorAt(at+".file", "%s.file: cannot read table %s: %v", at, t.Name, err)
		}
		f, err := ParseFile(name, data, t.RefFormat(), t.Key)
		if err != nil {
			return nil, cfg.ErrorAt(at, "%s: table %s: %v", at, t.Name, err)
		}
		tables = append(tables, Table{Name: t.Name, Source: f})
	}
	return New(cfg.ReferenceCache.MaxCostBytes, tables...)
}
