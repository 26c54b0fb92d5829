// Command mongo_server is Parity's MongoDB-wire-compatible test server.
//
// It embeds FerretDB v1 with its SQLite backend, so the tests can talk to a
// real MongoDB wire-protocol server through pymongo where no MongoDB server
// package is available. It is test infrastructure only: no auth, loopback only.
//
// Usage:
//
//	mongo_server -listen 127.0.0.1:27018 -dir /tmp/parity-mongo
//
// Once the listener is up it prints one line "ready mongodb://HOST:PORT/" to
// stdout. It stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27018", "TCP address to listen on (host:port; port 0 picks a free one)")
	dir := flag.String("dir", "", "directory for the SQLite databases (created if missing; required)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listen, *dir, *logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "mongo_server: %s\n", err)
		os.Exit(1)
	}
}

// run starts the embedded FerretDB and blocks until a termination signal arrives.
func run(listen, dir, logLevel string) error {
	if dir == "" {
		return errors.New("-dir is required")
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("bad -log-level %q: %w", logLevel, err)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	sqliteURL, err := sqliteDirURL(dir)
	if err != nil {
		return err
	}

	// Embedded FerretDB never starts its telemetry reporter and marks telemetry
	// as disabled and locked in ferretdb.New; nothing else to switch off here.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return fmt.Errorf("start FerretDB: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// ferretdb.New has already bound the socket (a busy port fails there), so
	// this line is a readiness signal and reports the real port for ":0".
	fmt.Printf("ready %s\n", f.MongoDBURI())

	if err := <-done; err != nil {
		return fmt.Errorf("FerretDB stopped: %w", err)
	}

	return nil
}

// sqliteDirURL creates dir if needed and returns it as the "file:/abs/dir/"
// URI FerretDB's SQLite backend expects (it insists on the trailing slash).
func sqliteDirURL(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve -dir %q: %w", dir, err)
	}

	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("create -dir %q: %w", abs, err)
	}

	u := url.URL{Scheme: "file", Path: abs + string(filepath.Separator), OmitHost: true}

	return u.String(), nil
}
