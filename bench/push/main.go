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
		// Odd runs go push first, so that neither side always meets a warmer Azurite.
		if r%2 == 0 {
			sdk += uploadFile(ctx, s, dir, r, bs, *conc)
			ours += push(ctx, s, a, dir, r, bs, *conc)
		} else {
			ours += push(ctx, s, a, dir, r, bs, *conc)
			sdk += uploadFile(ctx, s, dir, r, bs, *conc)
		}
	}
	mib := float64(n) * float64(*runs) / (1 << 20)
	fmt.Printf("bundle %s, blocks %d MiB, %d in flight, %d run(s), Azurite %s on loopback over HTTPS\n", *size, *blockMiB, *conc, *runs, azuritetest.Version)
	fmt.Printf("SDK UploadFile   %8.1f MiB/s  (%s)\n", mib/sdk.Seconds(), sdk.Round(time.Millisecond))
	fmt.Printf("steward push     %8.1f MiB/s  (%s)\n", mib/ours.Seconds(), ours.Round(time.Millisecond))
	fmt.Printf("ratio push/UploadFile %.2f (goal ≥ 0.70)\n", sdk.Seconds()/ours.Seconds())
}

// uploadFile times the SDK's UploadFile, with the account key, the same block size and
// concurrency, into a new container.
func uploadFile(ctx context.Context, s *azuritetest.Server, dir string, r int, bs int64, conc int) time.Duration {
	cred, _ := container.NewSharedKeyCredential(azuritetest.Account, azuritetest.Key)
	c, _ := container.NewClientWithSharedKeyCredential(fmt.Sprintf("%s/sdk-%d", s.Endpoint, r), cred, clientOpts(s))
	if _, err := c.Create(ctx, nil); err != nil {
		log.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "db.dump"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	if _, err := c.NewBlockBlobClient("db.dump").UploadFile(ctx, f, &blockblob.UploadFileOptions{BlockSize: bs, Concurrency: uint16(conc)}); err != nil {
		log.Fatal(err)
	}
	return time.Since(start)
}

// push times steward's push with a fresh grant's token into a new container.
func push(ctx context.Context, s *azuritetest.Server, a azure.Account, dir string, r int, bs int64, conc int) time.Duration {
	_, tok, err := a.Grant(ctx, azure.GrantRequest{Container: fmt.Sprintf("push-%d", r), IPRange: "127.0.0.1", Duration: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	if _, err := azure.Push(ctx, tok, dir, azure.PushOptions{BlockSize: bs, Concurrency: conc, Client: s.Client}); err != nil {
		log.Fatal(err)
	}
	return time.Since(start)
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
