// Command push measures steward's resumable push against the Azure SDK's own UploadFile on
// the same bundle, to Azurite on loopback, in the same run, and prints both throughputs and
// their ratio (the goal: push ≥ 0.7 × UploadFile).
//
//	go run ./bench/push -size 2GiB
//
// Azurite is found as the tests find it (STEWARD_AZURITE or ~/.cache/steward/azurite).
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/azure"
	"github.com/stewardhealth/steward/internal/transfer/azure/azuritetest"
)

func main() {
	size := flag.String("size", "2GiB", "bundle size (KiB, MiB, GiB suffixes)")
	blockMiB := flag.Int("block-mib", 8, "block size for both uploads")
	conc := flag.Int("concurrency", 4, "blocks in flight for both uploads")
	runs := flag.Int("runs", 1, "alternating runs of each")
	flag.Parse()
	n, err := parseSize(*size)
	if err != nil {
		log.Fatal(err)
	}
	work, err := os.MkdirTemp("", "bench-push-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	dir := filepath.Join(work, "bundle")
	if err := makeBundle(dir, n); err != nil {
		log.Fatal(err)
	}
	s, err := azuritetest.Start(azuritetest.Options{Dir: filepath.Join(work, "azurite")})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Stop()
	ctx := context.Background()
	a := azure.Account{Name: azuritetest.Account, Key: azuritetest.Key, Endpoint: s.Endpoint, Client: s.Client}
	bs := int64(*blockMiB) << 20
	var sdk, ours time.Duration
	for r := range *runs {
		// The SDK's UploadFile, with the account key, the same block size and concurrency.
		cred, _ := container.NewSharedKeyCredential(azuritetest.Account, azuritetest.Key)
		name := fmt.Sprintf("sdk-%d", r)
		c, _ := container.NewClientWithSharedKeyCredential(s.Endpoint+"/"+name, cred, clientOpts(s))
		if _, err := c.Create(ctx, nil); err != nil {
			log.Fatal(err)
		}
		f, _ := os.Open(filepath.Join(dir, "db.dump"))
		start := time.Now()
		if _, err := c.NewBlockBlobClient("db.dump").UploadFile(ctx, f, &blockblob.UploadFileOptions{BlockSize: bs, Concurrency: uint16(*conc)}); err != nil {
			log.Fatal(err)
		}
		sdk += time.Since(start)
		f.Close()

		_, tok, err := a.Grant(ctx, azure.GrantRequest{Container: fmt.Sprintf("push-%d", r), IPRange: "127.0.0.1", Duration: time.Hour})
		if err != nil {
			log.Fatal(err)
		}
		start = time.Now()
		if _, err := azure.Push(ctx, tok, dir, azure.PushOptions{BlockSize: bs, Concurrency: *conc, Client: s.Client}); err != nil {
			log.Fatal(err)
		}
		ours += time.Since(start)
	}
	mib := float64(n) * float64(*runs) / (1 << 20)
	fmt.Printf("bundle %s, blocks %d MiB, %d in flight, %d run(s), Azurite %s on loopback over HTTPS\n", *size, *blockMiB, *conc, *runs, azuritetest.Version)
	fmt.Printf("SDK UploadFile   %8.1f MiB/s  (%s)\n", mib/sdk.Seconds(), sdk.Round(time.Millisecond))
	fmt.Printf("steward push     %8.1f MiB/s  (%s)\n", mib/ours.Seconds(), ours.Round(time.Millisecond))
	fmt.Printf("ratio push/UploadFile %.2f (goal ≥ 0.70)\n", sdk.Seconds()/ours.Seconds())
}

func clientOpts(s *azuritetest.Server) *container.ClientOptions {
	o := &container.ClientOptions{}
	o.Transport = s.Client
	return o
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), m
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("size %q: want e.g. 2GiB or 512MiB", s)
	}
	return int64(v * float64(mult)), nil
}

// makeBundle writes one file of n random bytes and its manifest.
func makeBundle(dir string, n int64) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, "db.dump")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.Reader, n); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fe, err := transfer.HashFile(path, "db.dump")
	if err != nil {
		return err
	}
	m := &transfer.Manifest{Version: 1, Created: time.Now().UTC(), Source: transfer.Source{Kind: "bench", Database: "bench"}, Format: "random", Files: []transfer.File{fe}}
	return m.Write(dir)
}
