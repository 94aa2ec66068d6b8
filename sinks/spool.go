package sinks

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"
)

// errSpoolFull is returned by put when a batch does not fit in the bound.
var errSpoolFull = errors.New("analytics spool is full (analytics.spool.max_bytes); batch dropped")

// spoolExt ends every spool file: an Arrow IPC stream, zstd-compressed.
const spoolExt = ".arrows.zst"

// spool keeps batches on disk, one file each, named SEQ.TABLE.arrows.zst
// where SEQ is the order in which the Sink was handed the batch, so that
// replay keeps each task's order. It is bounded by bytes: a batch that does
// not fit when it reaches the spool is refused and dropped; what is
// already spooled is kept. Files are
// written to a temp name and renamed, so a crash leaves no half file under
// a spool name.
type spool struct {
	dir      string
	maxBytes int64

	mu      sync.Mutex
	entries []spoolEntry // oldest first
	bytes   int64
	seq     uint64 // the highest seq found on disk at open
	enc     *zstd.Encoder
}

type spoolEntry struct {
	seq   uint64
	table Table
	path  string
	size  int64
}

func openSpool(dir string, maxBytes int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create analytics spool dir (analytics.spool.dir): %w", err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	s := &spool{dir: dir, maxBytes: maxBytes, enc: enc}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read analytics spool dir: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(filepath.Join(dir, name)) // left by a crash mid-write
			continue
		}
		seqS, rest, ok := strings.Cut(name, ".")
		tname, ok2 := strings.CutSuffix(rest, spoolExt)
		seq, err := strconv.ParseUint(seqS, 10, 64)
		t, ok3 := tableByName(tname)
		if !ok || !ok2 || err != nil || !ok3 {
			continue
		}
		info, err := de.Info()
		if err != nil {
			return nil, err
		}
		s.entries = append(s.entries, spoolEntry{seq, t, filepath.Join(dir, name), info.Size()})
		s.bytes += info.Size()
		s.seq = max(s.seq, seq)
	}
	slices.SortFunc(s.entries, func(a, b spoolEntry) int { return cmp.Compare(a.seq, b.seq) })
	return s, nil
}

func (s *spool) size() (batches, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.entries)), s.bytes
}

// put writes rec to a spool file in its place by seq, the order in which
// the Sink was handed the batch.
func (s *spool) put(seq uint64, t Table, rec arrow.RecordBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxBytes <= 0 || s.bytes >= s.maxBytes {
		return errSpoolFull
	}
	name := fmt.Sprintf("%020d.%s%s", seq, t, spoolExt)
	path := filepath.Join(s.dir, name)
	tmp := filepath.Join(s.dir, "."+name+".tmp")
	size, err := s.writeFile(tmp, rec)
	if err == nil && s.bytes+size > s.maxBytes {
		err = errSpoolFull
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		if errors.Is(err, errSpoolFull) {
			return err
		}
		return fmt.Errorf("cannot spool %s batch to %s: %w", t, s.dir, err)
	}
	e := spoolEntry{seq, t, path, size}
	i, _ := slices.BinarySearchFunc(s.entries, seq, func(x spoolEntry, seq uint64) int { return cmp.Compare(x.seq, seq) })
	s.entries = slices.Insert(s.entries, i, e)
	s.bytes += size
	return nil
}

func (s *spool) writeFile(path string, rec arrow.RecordBatch) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	s.enc.Reset(bw)
	w := ipc.NewWriter(s.enc, ipc.WithSchema(rec.Schema()))
	err = errors.Join(w.Write(rec), w.Close(), s.enc.Close(), bw.Flush())
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			return st.Size(), f.Close()
		}
	}
	f.Close()
	return 0, err
}

// oldest returns the first spooled batches, at most n of them and about
// maxBytes of files, oldest first.
func (s *spool) oldest(n int, maxBytes int64) []spoolEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []spoolEntry
	var size int64
	for _, e := range s.entries {
		if len(out) == n || (len(out) > 0 && size+e.size > maxBytes) {
			break
		}
		out = append(out, e)
		size += e.size
	}
	return out
}

// read loads a spooled batch. Only the writer goroutine reads.
func (s *spool) read(e spoolEntry) (arrow.RecordBatch, error) {
	f, err := os.Open(e.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec, err := zstd.NewReader(bufio.NewReaderSize(f, 64<<10), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	r, err := ipc.NewReader(dec, ipc.WithSchema(schemas[e.table]), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, fmt.Errorf("spool file %s: %w", e.path, err)
	}
	defer r.Release()
	if !r.Next() {
		if r.Err() != nil {
			return nil, fmt.Errorf("spool file %s: %w", e.path, r.Err())
		}
		return nil, fmt.Errorf("spool file %s holds no batch", e.path)
	}
	rec := r.RecordBatch()
	rec.Retain()
	return rec, nil
}

// remove deletes e, once written.
func (s *spool) remove(e spoolEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.IndexFunc(s.entries, func(x spoolEntry) bool { return x.seq == e.seq }); i >= 0 {
		s.entries = slices.Delete(s.entries, i, i+1)
		s.bytes -= e.size
	}
	_ = os.Remove(e.path)
}
