package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/meridian/meridian/models"
)

func modelCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "score" {
		fmt.Fprint(stderr, "Usage: meridian model score --model FILE --input CSV\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return usagef("unknown model subcommand; the one there is: score")
	}
	fs := newFlags("model score --model FILE --input CSV",
		"Scores every row of a CSV with a model, so data scientists can check parity with the\n"+
			"tool they trained in. The input's header names features; columns the model does not\n"+
			"use are ignored and an empty cell is a missing value. The output is CSV on stdout with\n"+
			"the header margin,prediction (multi-class: margin_0..margin_k,prob_0..prob_k), one row\n"+
			"per input row; prediction is the probability for logistic models and the margin for\n"+
			"linear ones. Models: Meridian's linear JSON (meridian.linear/v1: logistic, linear) and\n"+
			"XGBoost JSON or UBJSON (binary:logistic, binary:logitraw, reg:squarederror,\n"+
			"multi:softprob); the format is read from the file's content.", stderr)
	modelPath := fs.String("model", "", "model file (required)")
	input := fs.String("input", "", "input CSV with a header of feature names (required; - for stdin)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *modelPath == "" || *input == "" {
		return usagef("--model FILE and --input CSV are required")
	}
	s, err := models.Load(*modelPath, "", "")
	if err != nil {
		return usageError{err}
	}
	m, ok := s.(models.Additive)
	if !ok {
		return fmt.Errorf("BUG: model %s (%T) has no margins", *modelPath, s)
	}
	in := io.Reader(os.Stdin)
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		in = f
	}
	w := bufio.NewWriter(stdout)
	if err := scoreCSV(m, in, *input, w); err != nil {
		return err
	}
	return w.Flush()
}

// scoreCSV writes the scores of every row of in; name is for messages.
func scoreCSV(m models.Additive, in io.Reader, name string, out io.Writer) error {
	r := csv.NewReader(bufio.NewReader(in))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return usagef("%s: cannot read the header: %v", name, err)
	}
	header = append([]string(nil), header...) // ReuseRecord: later reads overwrite it
	cols, err := columnsFor(m.Inputs(), header, name)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(out)
	if err := cw.Write(scoreHeader(m.Outputs())); err != nil {
		return err
	}
	x := make([]float64, len(cols))
	var margins, probs []float64
	row := make([]string, 0, 2*m.Outputs())
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return usagef("%s: %v", name, err)
		}
		for i, c := range cols {
			if x[i], err = cell(rec, c); err != nil {
				return usagef("%s:%d: column %q: %v", name, line, header[c], err)
			}
		}
		margins = m.Margins(x, margins)
		probs = m.Score(x, probs)
		row = row[:0]
		for _, v := range append(margins, probs...) {
			row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// columnsFor maps each model feature to its input column, or -1 when the
// input lacks it (then it is missing in every row).
func columnsFor(features, header []string, name string) ([]int, error) {
	at := make(map[string]int, len(header))
	for i, h := range header {
		at[h] = i
	}
	cols := make([]int, len(features))
	found := 0
	for i, f := range features {
		c, ok := at[f]
		if !ok {
			c = -1
		} else {
			found++
		}
		cols[i] = c
	}
	if found == 0 {
		return nil, usagef("%s: the header names none of the model's features %v", name, features)
	}
	return cols, nil
}

func cell(rec []string, c int) (float64, error) {
	if c < 0 || c >= len(rec) || rec[c] == "" {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(rec[c], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number (leave the cell empty for a missing value)", rec[c])
	}
	return v, nil
}

func scoreHeader(classes int) []string {
	if classes == 1 {
		return []string{"margin", "prediction"}
	}
	h := make([]string, 0, 2*classes)
	for k := 0; k < classes; k++ {
		h = append(h, fmt.Sprintf("margin_%d", k))
	}
	for k := 0; k < classes; k++ {
		h = append(h, fmt.Sprintf("prob_%d", k))
	}
	return h
}
