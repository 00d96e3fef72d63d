/*
 * rc_policy.h — what the report needs from the policy engine beyond the public API: the
 * policy's name and a short description of each rule, to state the reasons of a verdict.
 * See policy.c and docs/POLICY.md.
 */
#ifndef RC_POLICY_H
#define RC_POLICY_H

#include "recite.h"

/* A work reproduced to at least this coverage is reproduced "whole" (works[].extent). */
#define RC_WHOLE_WORK_COVERAGE 0.9

/* The name the policy was loaded under (its path), or "default" for NULL (the default policy). */
const char *rc_policy_name(const recite_policy *p);

/* The conditions of rule `number` (1-based) in words, e.g. "source shadow-library, min_tokens 12";
 * NULL p is the default policy. "" for a rule that does not exist. */
const char *rc_policy_rule_text(const recite_policy *p, int number);

#endif /* RC_POLICY_H */
