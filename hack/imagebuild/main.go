// Command imagebuild writes a reproducible single-layer OCI image of one
// static binary as an OCI image-layout tarball, with no registry and no
// daemon: `ctr images import` and `docker load` (Docker 25+) read it.
//
//	go run ./hack/imagebuild -binary dist/image/orgplane -name docker.io/orgplane/orgplane:dev -out dist/orgplane-image.tar
//
// Every timestamp is fixed (SOURCE_DATE_EPOCH, or 0), files belong to root,
// and the process runs as the non-root user 65532; the same binary gives the
// same image digest.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// nonRoot is the uid and gid the image runs as (distroless' "nonroot").
const nonRoot = 65532

func main() {
	binary := flag.String("binary", "", "static binary to put at /<its base name> as the entrypoint")
	name := flag.String("name", "", "image name recorded for ctr import (io.containerd.image.name), e.g. docker.io/orgplane/orgplane:dev")
	out := flag.String("out", "", "OCI image-layout tarball to write")
	flag.Parse()
	if *binary == "" || *name == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := build(*binary, *name, *out, epoch()); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

// epoch is SOURCE_DATE_EPOCH when set, otherwise the Unix epoch.
func epoch() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Unix(0, 0).UTC()
}

func build(binary, name, out string, at time.Time) error {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	entry := "/" + filepath.Base(binary)
	layerTar, err := rootfs(entry, bin, at)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	user := strconv.Itoa(nonRoot) + ":" + strconv.Itoa(nonRoot)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", Created: v1.Time{Time: at},
		RootFS: v1.RootFS{Type: "layers", DiffIDs: mustDiffIDs(layer)},
		Config: v1.Config{Entrypoint: []string{entry}, User: user, WorkingDir: "/",
			Env: []string{"PATH=/"}, Labels: map[string]string{"org.opencontainers.image.source": "https://github.com/orgplane/orgplane"}},
	})
	if err != nil {
		return err
	}
	return writeLayoutTar(img, name, out, at)
}

func mustDiffIDs(l v1.Layer) []v1.Hash {
	h, err := l.DiffID()
	if err != nil {
		panic(err)
	}
	return []v1.Hash{h}
}

// rootfs is the single layer: the binary, /etc/passwd and /etc/group naming
// the non-root user, and a world-writable /tmp.
func rootfs(entry string, bin []byte, at time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := []string{"etc/", "tmp/"}
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n")},
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/:/sbin/nologin\n")},
		{entry[1:], 0o755, bin},
	}
	for _, d := range dirs {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: at, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: at, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeLayoutTar writes img as an OCI image layout, named for ctr import,
// into one tarball with sorted entries and fixed timestamps.
func writeLayoutTar(img v1.Image, name, out string, at time.Time) error {
	dir, err := os.MkdirTemp(filepath.Dir(out), ".imagebuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          name,
		"org.opencontainers.image.ref.name": refName(name),
	})); err != nil {
		return err
	}
	return tarDir(dir, out, at)
}

// refName is the tag of name (what `docker load` and skopeo call the ref).
func refName(name string) string {
	base := path.Base(name)
	for i := len(base) - 1; i >= 0; i-- {
		if base[i] == ':' {
			return base[i+1:]
		}
	}
	return "latest"
}

func tarDir(dir, out string, at time.Time) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, p := range names {
		if err := addFile(tw, dir, p, at); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func addFile(tw *tar.Writer, dir, p string, at time.Time) error {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return err
	}
	info, err := os.Stat(p)
	if err != nil {
		return err
	}
	h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: at, Mode: 0o644, Format: tar.FormatPAX}
	if info.IsDir() {
		h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
		return tw.WriteHeader(h)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	h.Typeflag, h.Size = tar.TypeReg, int64(len(data))
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = tw.Write(data)
	return err
}
