"""The IMAP fetcher: mailbox cursors, the one-fetcher lock, and the fetch loop."""
