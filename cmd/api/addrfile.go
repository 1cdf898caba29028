package main

import (
	"flag"
	"fmt"
	"os"

	"cihui/internal/config"
)

func (m *Main) addrFileFlags(fs *flag.FlagSet) {
	config.StringFlag(fs, &m.AddrFile, "addr-file", "CIHUI_ADDR_FILE", "",
		"once listening, write the API's URL (and the profiles', with --pprof-addr) to this file as JSON, for --addr with port 0; removed at shutdown; empty: none")
}

// writeAddrFile writes --addr-file (config.AddrFile), if asked for, and
// removes it when the API closes.
func (m *Main) writeAddrFile(apiURL string) error {
	if m.AddrFile == "" {
		return nil
	}
	if err := config.WriteAddrFile(m.AddrFile, config.AddrFile{APIURL: apiURL, PprofURL: m.pprofURL, PID: os.Getpid()}); err != nil {
		return fmt.Errorf("--addr-file: %w", err)
	}
	m.closers = append(m.closers, func() { _ = os.Remove(m.AddrFile) })
	return nil
}
