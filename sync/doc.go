// Package sync will hold the kiosk<->district protocol: wire types, the signed
// HTTP client, and the Syncer that drains the outbox and applies the change
// feed. It must never import fyne (deps_test.go enforces it). Import it as
// kiosksync where the standard library's sync is also needed.
package sync
