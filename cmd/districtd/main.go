// Command districtd is the district platform server: the other end of the
// kiosks' sync (docs/protocol.md), and operator commands for scripts.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/sync/district"
)

const usage = `usage: districtd serve --addr ADDR --data DIR [--name NAME] [--db postgres://...] [--tls-cert FILE --tls-key FILE]
                   (plain HTTP only on a loopback address, e.g. behind a TLS proxy)
       districtd enroll-code --point CODE --name NAME --data DIR [--qr FILE.png]
       districtd submissions --json --data DIR
       districtd set-status RECEIPT-NO --status accepted|in_progress|done|returned|refused [--note TEXT] --data DIR
       districtd devices --json --data DIR
       districtd revoke DEVICE --data DIR
       districtd catalog publish FILE --data DIR
       districtd agent add NAME --point CODE --pin PIN [--admin] --data DIR | agent stop NAME --point CODE --data DIR
       districtd holidays publish FILE --data DIR   one year's official arrangement (assets/holidays format)
       districtd new-epoch --data DIR     after restoring a backup: kiosks send again what it lacks
       districtd seal-key --data DIR      the public key kiosks seal for (for ` + "`kiosk settings set seal-key`" + ` before enrolment)
       districtd user add USERNAME --name NAME --data DIR   a staff account for /staff/ (password on stdin, or --password-file FILE)
       districtd user disable USERNAME --data DIR           stops the account and ends its sessions

Every command takes --db postgres://USER@HOST/DB (or DISTRICTD_DB) to keep the
records in PostgreSQL instead of SQLite in --data; attachments stay in --data.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs districtd with args and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := fs.String("data", os.Getenv("DISTRICTD_DATA"), "data folder")
	dbURL := fs.String("db", os.Getenv("DISTRICTD_DB"), "PostgreSQL URL (default: SQLite in the data folder)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	name := fs.String("name", defaultName, "district name; for user add, the staff member's name")
	point := fs.String("point", "", "service point code")
	qr := fs.String("qr", "", "also write the code as a QR image")
	status := fs.String("status", "", "new status")
	note := fs.String("note", "", "why (required for returned and refused)")
	pin := fs.String("pin", "", "agent PIN, 4-8 digits (stored hashed)")
	admin := fs.Bool("admin", false, "the agent may read the audit log and change settings")
	fs.Bool("json", true, "print JSON")
	passwordFile := fs.String("password-file", "", "read the staff password from this file instead of stdin")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM)")
	tlsKey := fs.String("tls-key", "", "the certificate's private key (PEM)")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			fmt.Fprintf(stderr, "districtd: %v\n\n%s", err, usage)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *data == "" {
		fmt.Fprintf(stderr, "districtd: --data DIR is required\n\n%s", usage)
		return 2
	}
	st, err := district.OpenDB(ctx, *data, *dbURL)
	if err != nil {
		fmt.Fprintln(stderr, "districtd:", err)
		return 1
	}
	defer st.Close()
	err = run(ctx, st, cmd, pos, stdout, options{addr: *addr, name: *name, point: *point, qr: *qr, status: *status, note: *note, pin: *pin, admin: *admin,
		passwordFile: *passwordFile, stdin: stdin, tlsCert: *tlsCert, tlsKey: *tlsKey})
	if err != nil {
		fmt.Fprintln(stderr, "districtd:", err)
		return 1
	}
	return 0
}

type options struct {
	addr, name, point, qr, status, note, pin string
	admin                                    bool
	passwordFile                             string
	stdin                                    io.Reader
	tlsCert, tlsKey                          string
}

const defaultName = "柯桥区人力资源和社会保障局"

// stdin is where `user add` reads a password; tests replace it.
var stdin io.Reader = os.Stdin

// readPassword reads a staff password from --password-file or the first
// line of stdin, so it never appears in the process list or shell history.
func readPassword(o options) (string, error) {
	var data []byte
	var err error
	if o.passwordFile != "" {
		data, err = os.ReadFile(o.passwordFile)
	} else {
		data, err = io.ReadAll(io.LimitReader(o.stdin, 4096))
	}
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	password, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimRight(password, "\r"), nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func run(ctx context.Context, st *district.Store, cmd string, pos []string, stdout io.Writer, o options) error {
	switch cmd {
	case "serve":
		return serve(ctx, st, o, stdout)
	case "enroll-code":
		code, expires, err := st.CreateEnrollCode(ctx, o.point, o.name)
		if err != nil {
			return err
		}
		if o.qr != "" {
			// The QR holds the one-time code only: no URL, no lasting secret.
			if err := qrcode.WriteFile(code, qrcode.Medium, 320, o.qr); err != nil {
				return fmt.Errorf("write QR image: %w", err)
			}
		}
		fmt.Fprintf(stdout, "%s\nvalid until %s, once, for %s (%s)\n", code, expires.Local().Format("2006-01-02 15:04"), o.name, o.point)
		return nil
	case "submissions":
		list, err := st.Submissions(ctx)
		if err != nil {
			return err
		}
		if list == nil {
			list = []district.Summary{}
		}
		return printJSON(stdout, list)
	case "set-status":
		if len(pos) != 1 {
			return errors.New("set-status needs one RECEIPT-NO")
		}
		if err := st.SetStatus(ctx, pos[0], o.status, o.note, "districtd"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now %s\n", pos[0], o.status)
		return nil
	case "devices":
		list, err := st.Devices(ctx)
		if err != nil {
			return err
		}
		if list == nil {
			list = []district.Device{}
		}
		return printJSON(stdout, list)
	case "revoke":
		if len(pos) != 1 {
			return errors.New("revoke needs one DEVICE id")
		}
		if err := st.Revoke(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s revoked\n", pos[0])
		return nil
	case "catalog":
		if len(pos) != 2 || pos[0] != "publish" {
			return errors.New("use `catalog publish FILE`")
		}
		doc, err := os.ReadFile(pos[1])
		if err != nil {
			return fmt.Errorf("read catalog: %w", err)
		}
		c, err := st.PublishCatalog(ctx, doc)
		if err != nil {
			return fmt.Errorf("%s was not published: %w", pos[1], err)
		}
		m, n := c.Stats()
		fmt.Fprintf(stdout, "published catalog %s: %d main items, %d sub-items\n", c.Version, m, n)
		return nil
	case "agent":
		switch {
		case len(pos) == 2 && pos[0] == "add":
			if err := st.SetAgent(ctx, o.point, pos[1], o.pin, o.admin); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "agent %s set for %s; its kiosks get it at their next sync\n", pos[1], o.point)
			return nil
		case len(pos) == 2 && pos[0] == "stop":
			if err := st.StopAgent(ctx, o.point, pos[1]); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "agent %s stopped at %s\n", pos[1], o.point)
			return nil
		}
		return errors.New("use `agent add NAME --point CODE --pin PIN [--admin]` or `agent stop NAME --point CODE`")
	case "holidays":
		if len(pos) != 2 || pos[0] != "publish" {
			return errors.New("use `holidays publish FILE` (one year's arrangement, as in assets/holidays)")
		}
		doc, err := os.ReadFile(pos[1])
		if err != nil {
			return fmt.Errorf("read holiday calendar: %w", err)
		}
		year, err := st.PublishHolidays(ctx, doc)
		if err != nil {
			return fmt.Errorf("%s was not published: %w", pos[1], err)
		}
		fmt.Fprintf(stdout, "published the holiday arrangement of %d\n", year)
		return nil
	case "user":
		switch {
		case len(pos) == 2 && pos[0] == "add":
			if o.name == defaultName {
				return errors.New("user add needs --name: the staff member's name, shown on the pages and in the audit log")
			}
			password, err := readPassword(o)
			if err != nil {
				return err
			}
			if err := st.AddStaff(ctx, pos[1], o.name, password); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "staff account %s (%s) ready: sign in at /staff/\n", pos[1], o.name)
			return nil
		case len(pos) == 2 && pos[0] == "disable":
			if err := st.DisableStaff(ctx, pos[1]); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "staff account %s disabled; its sessions ended\n", pos[1])
			return nil
		}
		return errors.New("use `user add USERNAME --name NAME` (password on stdin) or `user disable USERNAME`")
	case "seal-key":
		fmt.Fprintln(stdout, seal.Encode(st.SealKey()))
		return nil
	case "new-epoch":
		e, err := st.NewEpoch(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "epoch %s\n", e)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", cmd, strings.TrimSpace(usage))
}

// checkListen refuses to serve kiosks' data in plain HTTP beyond this
// machine: a district behind a TLS proxy listens on loopback.
func checkListen(o options) error {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return errors.New("serve: give both --tls-cert and --tls-key")
	}
	if o.tlsCert != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return fmt.Errorf("serve: --addr %q is not HOST:PORT", o.addr)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("serve: plain HTTP on %s would carry villagers' data unencrypted: give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS proxy", o.addr)
}

func serve(ctx context.Context, st *district.Store, o options, stdout io.Writer) error {
	if err := checkListen(o); err != nil {
		return err
	}
	logger := log.New(os.Stderr, "districtd: ", log.LstdFlags)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	srv := &http.Server{Handler: district.NewHandler(st, district.Options{Name: o.name, Logger: logger}),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, WriteTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("serve: load the TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		fmt.Fprintf(stdout, "districtd listening on https://%s\n", ln.Addr())
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		fmt.Fprintf(stdout, "districtd listening on %s\n", ln.Addr())
		go func() { errc <- srv.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shut)
	}
}
