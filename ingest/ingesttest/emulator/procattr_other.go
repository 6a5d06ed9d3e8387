//go:build !linux

package emulator

import "syscall"

func procAttr() *syscall.SysProcAttr { return nil }
