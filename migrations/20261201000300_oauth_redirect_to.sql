-- Where a front end asked to be sent back after "Sign in with GitHub" (`redirect_to`,
-- checked against FRONTEND_URLS before it is stored); null answers the callback with JSON.
alter table oauth_states add column redirect_to text;
