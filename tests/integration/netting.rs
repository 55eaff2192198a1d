//! Placeholder: tests for this rail kind come with it (issue 3).
