// Command hub serves /srv over HTTP on port 8080: the fixture's package hub,
// which the consumer fetches from while it builds (as AppHub serves SLURM
// packages to slurm-master).
package main

import (
	"log"
	"net/http"
)

func main() {
	log.Fatal(http.ListenAndServe(":8080", http.FileServer(http.Dir("/srv"))))
}
