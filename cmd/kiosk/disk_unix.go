//go:build unix

package main

import "syscall"

// diskFree is the space left for the data folder, for the heartbeat.
func diskFree(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
