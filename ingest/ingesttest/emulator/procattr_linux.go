package emulator

import "syscall"

// procAttr makes the kernel kill the emulator when the test process dies,
// even by a panic or a timeout that skips TestMain's cleanup.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
