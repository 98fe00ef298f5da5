// Package faults is the fault suite of issue 7: it injects the faults a
// village kiosk and its district meet (SIGKILL of either program, a cut or
// slow network through toxiproxy, error answers and Wi-Fi login pages,
// duplicate delivery, a district restored from an older backup, clock skew,
// a full district disk, a damaged kiosk database, a broken catalog download,
// a month offline) and checks after each that nothing a villager was told is
// saved was lost or duplicated. It has only tests; docs/faults.md explains
// each scenario. `go test ./faults/` runs the short version (a handful of
// injections each, as part of make test); FAULTS=full (make faults) runs
// hundreds and prints the table.
package faults
