// Package models loads gradient-boosted tree models trained offline and
// scores feature vectors with them inside the decisioning pipeline.
//
// The only supported family today is XGBoost (gbtree booster) saved with
// Booster.save_model in JSON (XGBoost 1.7+) or UBJSON (the default format from
// XGBoost 2.1 on). Scoring reproduces XGBoost's own arithmetic: feature values
// and split thresholds are compared as float32, missing values (NaN) follow
// each node's default direction, and margins are accumulated tree by tree in
// float32 starting from the objective's base margin, so margins and
// probabilities agree with XGBoost's predict to within 1e-6.
//
// Supported objectives: binary:logistic, binary:logitraw, reg:squarederror
// and multi:softprob. Categorical splits, multi-target trees and the dart
// booster are rejected at load time with a clear error.
package models
