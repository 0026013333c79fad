package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strconv"
)

// gogzip LEVEL FILE: writes FILE to stdout as one gzip stream at LEVEL (-1 = DefaultCompression,
// what mongodump's gzip.NewWriter uses).
func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gogzip:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 3 {
		return fmt.Errorf("usage: gogzip LEVEL FILE")
	}
	level, err := strconv.Atoi(os.Args[1])
	if err != nil {
		return err
	}
	in, err := os.Open(os.Args[2])
	if err != nil {
		return err
	}
	defer in.Close()
	w, err := gzip.NewWriterLevel(os.Stdout, level)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, in); err != nil {
		return err
	}
	return w.Close() // the final block and the trailer: a failure here is a truncated stream
}
