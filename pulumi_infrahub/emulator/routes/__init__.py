"""One router per API area, plus the admin router."""
