package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Exit codes. Every tool, Kafka-named or not, maps its failure to one of
// these, so scripts can tell "fix your command line" from "the broker is
// down" from "that topic does not exist".
const (
	ExitOK           = 0 // success
	ExitFailure      = 1 // any other failure (a rejected request, a bad input line, ...)
	ExitUsage        = 2 // unknown flag, missing or conflicting options, bad option value
	ExitUnreachable  = 3 // no bootstrap broker answered within the connect timeout
	ExitUnknownTopic = 4 // a named topic (or partition) does not exist
	ExitUnknownGroup = 5 // a named consumer group does not exist
	ExitInterrupted  = 130
)

// exitError carries an exit code with the error that caused it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageErrorf reports a command-line mistake (exit code 2).
func usageErrorf(format string, args ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, args...))
}

// unknownTopicErrorf reports a missing topic (exit code 4).
func unknownTopicErrorf(format string, args ...any) error {
	return withCode(ExitUnknownTopic, fmt.Errorf(format, args...))
}

// exitCodeOf maps an error returned by a command to a process exit code.
func exitCodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// Commands outside this package (sluice server) carry their own code.
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return ExitUnknownTopic
	case errors.Is(err, kerr.GroupIDNotFound):
		return ExitUnknownGroup
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitFailure
}
