// Package examples embeds the example configuration, so that `meridian dev`,
// `meridian gen` and `meridian bench` run on the documented defaults from
// any directory.
package examples

import "embed"

// Config is examples/meridian.yaml.
//
//go:embed meridian.yaml
var Config []byte

// Reference holds the reference tables meridian.yaml declares, at the
// paths it gives them (reference/skus.csv), for refdata.Open with the
// embedded config.
//
//go:embed reference/*.csv
var Reference embed.FS

// ConfigName is the name used in messages about the embedded config.
const ConfigName = "examples/meridian.yaml (embedded)"

// Models holds the model files the example config names (models/*.json),
// for running on the embedded defaults: paths in it are the config's
// `file` values, e.g. models/cart_recovery.xgb.json.
//
//go:embed models/*.json
var Models embed.FS

// Files holds every file the example config names (models/ and
// reference/), at the paths it gives them: what the pipeline reads when it
// runs on the embedded config.
//
//go:embed models/*.json reference/*.csv
var Files embed.FS
