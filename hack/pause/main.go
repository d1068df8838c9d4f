// Command pause is the node's sandbox ("pause") container for test/cluster:
// it does nothing until SIGTERM or SIGINT. make image builds it into an
// image the same way as orgplane's, since no image can be pulled.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
}
