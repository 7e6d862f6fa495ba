-- 004: the display name real OffloadMQ agents register with (≤ 50 characters), shown in agent lists.
ALTER TABLE agents ADD COLUMN display_name TEXT;
