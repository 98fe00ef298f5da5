# The two commands of the README: `make run` and `make test`. Each installs
# what it needs on a fresh Debian 12 / Ubuntu machine (as root, or with sudo).

SHELL := /bin/bash
GO    ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)

# Fyne's cgo build (GLFW, OpenGL, X11).
BUILD_PKGS := gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
              libxinerama-dev libxi-dev libxxf86vm-dev
# Tests also start the real window in Xvfb and screenshot it with ImageMagick,
# decode receipt QR codes with zbarimg, read PDFs with poppler, and print
# through a real CUPS queue that writes PDFs (cups-pdf), and run the district
# store's contract suite on a private PostgreSQL server (internal/pgtest), and
# drive the district's pages in headless Chromium (internal/browsertest).
TEST_PKGS  := xvfb xauth imagemagick zbar-tools poppler-utils cups printer-driver-cups-pdf postgresql \
              chromium fonts-noto-cjk

STATICCHECK_VERSION := v0.8.2
SHOT_ITEM ?= 3306213329-01

.PHONY: run display test faults build deps-build deps-test tools fmt-check clean screenshots cups fuzz

run: display deps-build build
	./bin/kiosk $(ARGS)

# display says at once, before minutes of building, that there is no screen.
display:
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "make run: no display found (DISPLAY and WAYLAND_DISPLAY are empty)."; \
	  echo "Run it on the kiosk's desktop, or without a screen: xvfb-run make run"; \
	  exit 1; fi

build:
	$(GO) build -o bin/kiosk ./cmd/kiosk
	$(GO) build -o bin/districtd ./cmd/districtd

test: deps-build deps-test tools fmt-check build cups
	$(GO) vet ./...
	staticcheck ./...
	KIOSK_BIN=$(CURDIR)/bin/kiosk DISTRICTD_BIN=$(CURDIR)/bin/districtd $(GO) test -race -timeout 15m ./...
	$(MAKE) --no-print-directory fuzz

# Each fuzz target for a few thousand inputs (FUZZTIME=10m for a real hunt). A
# crash fails the run; go test writes the input to testdata/fuzz/, where it
# stays as a regression seed once the bug is fixed. A count, not a duration:
# Go 1.26's coordinator can fail a duration run with "context deadline
# exceeded" at its end on a busy machine (golang/go#75804, fixed in 1.27).
FUZZTIME ?= 3000x
FUZZ_TARGETS := .:FuzzCheckIDNumber .:FuzzParseCatalog ./receipt:FuzzVerify ./receipt:FuzzEncodeESCPOS \
                ./sync:FuzzVerifySignature ./sync/district:FuzzPostSubmission
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$fn in $$pkg for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg > /tmp/fuzz-$$fn.log 2>&1 || { cat /tmp/fuzz-$$fn.log; exit 1; }; \
	done

# The fault suite of issue 7 in full (docs/faults.md): hundreds of injected
# faults against the real programs, ending with the table of what was
# injected, lost and duplicated; it fails if anything was lost or duplicated.
# A short version of it runs inside `make test`.
faults: deps-build build
	@mkdir -p bin; rm -f bin/faults-table.md
	FAULTS=full FAULTS_REPORT=$(CURDIR)/bin/faults-table.md KIOSK_BIN=$(CURDIR)/bin/kiosk DISTRICTD_BIN=$(CURDIR)/bin/districtd \
	  $(GO) test -count=1 -timeout 15m -v ./faults/ 2>&1 | grep --line-buffered -E '^(=== RUN|--- |ok|FAIL|PASS)|_test.go' ; \
	  status=$${PIPESTATUS[0]}; echo; cat bin/faults-table.md 2>/dev/null || echo "no table: the suite did not finish"; exit $$status

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# apt-get only when something is missing, so a prepared machine starts at once.
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps-build:
	$(call apt_install,$(BUILD_PKGS))

deps-test:
	$(call apt_install,$(TEST_PKGS))

# A running CUPS with the cups-pdf queue the receipt tests print to.
CUPS_QUEUE := KioskPDF
cups: deps-test
	@SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	if ! lpstat -r 2>/dev/null | grep -q 'is running'; then \
	  $$SUDO /usr/sbin/cupsd || { echo "make test: could not start cupsd"; exit 1; }; \
	  for i in $$(seq 1 50); do lpstat -r 2>/dev/null | grep -q 'is running' && break; sleep 0.2; done; \
	fi; \
	lpstat -r 2>/dev/null | grep -q 'is running' || { echo "make test: cupsd did not start; see /var/log/cups/error_log"; exit 1; }; \
	lpstat -p $(CUPS_QUEUE) >/dev/null 2>&1 || \
	  $$SUDO lpadmin -p $(CUPS_QUEUE) -v cups-pdf:/ -P /usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd -E; \
	lpstat -p $(CUPS_QUEUE) >/dev/null || { echo "make test: could not create the CUPS queue $(CUPS_QUEUE)"; exit 1; }

tools:
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

clean:
	rm -rf bin

# Regenerate the README's screenshots from the real UI (software rendering and
# a real window under Xvfb).
screenshots: build deps-test
	rm -rf /tmp/kiosk-shots && mkdir -p docs/screenshots
	./bin/kiosk setup --point 330603101201 --point-name 王化村便民服务中心 --data /tmp/kiosk-shots
	./bin/kiosk agent add 王芳 --pin 2468 --admin --data /tmp/kiosk-shots
	./bin/kiosk settings set seal-key $$(./bin/districtd seal-key --data /tmp/kiosk-shots/district) --data /tmp/kiosk-shots
	./bin/kiosk submit --json docs/examples/submission.json --data /tmp/kiosk-shots
	for s in lock home category:养老保险 item:$(SHOT_ITEM) search:sbk intake:3306213360-01 \
	         intake:3306213360-01:2 intake:3306213360-01:3 intake:3306213360-01:4 submissions; do \
	  ./bin/kiosk shot "$$s" --data /tmp/kiosk-shots --out "docs/screenshots/$$(echo $$s | cut -d: -f1,3 | tr ':' '-').png" || exit 1; \
	done
	xvfb-run -a -s "-screen 0 1280x800x24" bash -c './bin/kiosk --data /tmp/kiosk-shots --fullscreen & p=$$!; sleep 6; import -window root docs/screenshots/xvfb-window.png; kill $$p'
