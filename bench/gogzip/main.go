package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Writes stdin to stdout as one gzip stream at the given level (-1 = DefaultCompression,
// what mongodump's gzip.NewWriter uses).
func main() {
	level, _ := strconv.Atoi(os.Args[1])
	w, err := gzip.NewWriterLevel(os.Stdout, level)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := io.Copy(w, os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w.Close()
}
