//! Placeholder: the fake GitHub lands in the next commit.
