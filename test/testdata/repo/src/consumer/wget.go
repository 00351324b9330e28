// Command wget fetches a URL into a file (wget -O FILE URL): the fixture's
// base has no HTTP client.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 4 || os.Args[1] != "-O" {
		fmt.Fprintln(os.Stderr, "usage: wget -O FILE URL")
		os.Exit(2)
	}
	if err := get(os.Args[3], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "wget:", err)
		os.Exit(1)
	}
}

func get(url, file string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(file, body, 0o644)
}
