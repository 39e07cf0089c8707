"""Pages of incidents and cases: queues, ticket pages and their actions, the requester portal, reference data."""
