"""Computer-telephony integration: the AMI link to Asterisk, the call tracker, the
FastAGI server, simulated callers, and the composition root and command line that
build the whole Hotline service."""
