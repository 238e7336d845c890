#!/bin/sh
# Minimal guest check used to test the harness: always reports hello=world.
echo "VIREO-RESULT hello=world"
