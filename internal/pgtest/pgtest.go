// Package pgtest starts a private PostgreSQL server from the machine's
// packages for tests, once per test binary, and gives each test its own
// empty database. A machine without PostgreSQL fails the test saying so:
// the PostgreSQL half of a contract suite is never skipped silently.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

var (
	once    sync.Once
	server  *cluster
	failure error
	dbs     atomic.Int64
)

type cluster struct {
	root, dir, bin, port, owner string
}

// URL returns the URL of a new, empty database on the shared server,
// dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() { server, failure = start() })
	if failure != nil {
		t.Fatalf("PostgreSQL could not start for this test: %v\n(install Debian's postgresql package; `make test` does)", failure)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbs.Add(1))
	admin, err := sql.Open("pgx", server.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", server.url("postgres"))
		if err == nil {
			admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			admin.Close()
		}
	})
	return server.url(name)
}

// Stop shuts the server down; call it from TestMain after m.Run.
func Stop() {
	if server != nil {
		server.run(filepath.Join(server.bin, "pg_ctl"), "-D", server.dir, "-m", "immediate", "-w", "stop")
		os.RemoveAll(server.root)
	}
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%s/%s?sslmode=disable", c.owner, c.port, db)
}

// run runs a PostgreSQL program as the cluster's owner: PostgreSQL refuses
// to run as root, so as root it runs as the postgres user.
func (c *cluster) run(prog string, args ...string) (string, error) {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", c.owner, "--", prog}, args...)...)
	} else {
		cmd = exec.Command(prog, args...)
	}
	cmd.Dir = os.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %v: %s", filepath.Base(prog), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func binDir() (string, error) {
	if p, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(p, "--bindir").Output(); err == nil {
			dir := strings.TrimSpace(string(out))
			if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
				return dir, nil
			}
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("no initdb found (looked for pg_config and /usr/lib/postgresql/*/bin)")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func start() (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c.root = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres user to own the server: %v", err)
		}
		c.owner = "postgres"
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	} else {
		u, err := user.Current()
		if err != nil {
			return nil, err
		}
		c.owner = u.Username
	}
	data := filepath.Join(dir, "data")
	if _, err := c.run(filepath.Join(bin, "initdb"), "-D", data, "-U", c.owner, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		return nil, err
	}
	c.dir = data
	for attempt := 0; ; attempt++ {
		if c.port, err = freePort(); err != nil {
			return nil, err
		}
		// fsync off: test databases are thrown away; durability is the
		// SQLite store's and the benchmarks' business.
		_, err = c.run(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60",
			"-o", fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", c.port, dir), "start")
		if err == nil || attempt == 2 {
			break
		}
	}
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, fmt.Errorf("%v\n%s", err, log)
	}
	db, _ := sql.Open("pgx", c.url("postgres"))
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("the server started but does not answer: %v", err)
	}
	return c, nil
}

// Engines runs test once on SQLite (dbURL "") and once on PostgreSQL (a
// fresh database), as subtests named after the engine: the district store's
// contract suite.
func Engines(t *testing.T, test func(t *testing.T, dbURL string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, "") })
	t.Run("postgres", func(t *testing.T) { test(t, URL(t)) })
}

// Main runs a test binary's tests and stops the server after them.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}
