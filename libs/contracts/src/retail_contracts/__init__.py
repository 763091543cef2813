"""Event and command models shared by the retail services, and the topics they travel on."""
