-- Migration 0004: an attempt is counted when its outcome is recorded, not when it is claimed;
-- claims are counted apart, so a delivery whose sending stops its worker each time still ends
-- (issue 11).

ALTER TABLE webhook_deliveries ADD COLUMN claims INTEGER NOT NULL DEFAULT 0 CHECK (claims >= 0);
