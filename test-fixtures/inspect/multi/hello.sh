#!/bin/sh
echo "hello $*"
