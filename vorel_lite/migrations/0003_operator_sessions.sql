-- Migration 0003: signing out of the console ends the operator's sessions (issue 12).

ALTER TABLE operators ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
