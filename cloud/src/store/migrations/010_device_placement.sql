-- Device placement (issue 11): the communities each gateway may serve. Devices and their addresses
-- stay in `devices` (migration 002). A gateway with no row here is "unplaced": its events' addresses
-- are trusted as before (logged once); with rows, an address outside them is refused by id.
CREATE TABLE IF NOT EXISTS gateway_communities (
  gateway_id  text NOT NULL REFERENCES gateways (id),
  community   text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (gateway_id, community)
);
