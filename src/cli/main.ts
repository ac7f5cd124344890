#!/usr/bin/env node
console.log("runware: placeholder");
