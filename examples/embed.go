// Package examples embeds the example configuration, so that `meridian dev`,
// `meridian gen` and `meridian bench` run on the documented defaults from
// any directory.
package examples

import _ "embed"

// Config is examples/meridian.yaml.
//
//go:embed meridian.yaml
var Config []byte

// ConfigName is the name used in messages about the embedded config.
const ConfigName = "examples/meridian.yaml (embedded)"
