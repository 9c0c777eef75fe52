//go:build tools

// Package tools records the two Prometheus commands this module builds, so that `go mod tidy` keeps every
// module they need in go.mod and go.sum. ../build.sh runs
// `go build github.com/prometheus/prometheus/cmd/{prometheus,promtool}` in this folder.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
