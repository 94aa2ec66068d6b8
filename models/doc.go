// Package models loads the models decisions score with and explains
// their scores. Every model is a Scorer, read by Load, which tells the
// format from the file's content:
//
//   - Linear and logistic regression in Meridian's JSON format
//     (meridian.linear/v1; see Linear and docs/models.md).
//   - XGBoost gbtree models saved with Booster.save_model in JSON (XGBoost
//     1.7+) or UBJSON (the default format from XGBoost 2.1 on). Scoring
//     reproduces XGBoost's own arithmetic: feature values and split
//     thresholds are compared as float32, missing values (NaN) follow each
//     node's default direction, and margins are accumulated tree by tree in
//     float32 starting from the objective's base margin, so margins and
//     probabilities agree with XGBoost's predict to within 1e-6.
//     Supported objectives: binary:logistic, binary:logitraw,
//     reg:squarederror and multi:softprob. Categorical splits,
//     multi-target trees and the dart booster are rejected at load time.
//
// Explanations split a margin into a bias and one contribution per input
// (Additive): weight x value for linear models, and for trees the changes
// of expected value along each tree's decision path (Saabas, as XGBoost's
// pred_contribs with approx_contribs=True). Score and Explain do not
// allocate.
//
// The adaptive model is here too (bandit.go): Beta-Bernoulli Thompson
// sampling per (action, segment) with a deterministic random source
// seeded by the decision id; a Tally is one partition's cumulative
// outcome counts, and the Learner sums the latest Tally of every
// partition for the deciders of every task.
package models
