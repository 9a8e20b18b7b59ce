"""Read models: documents a service owns and the gateway reads to answer queries.
Collection names, indexes and the API view of each are defined here, once."""
