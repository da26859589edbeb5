// Validate glTF 2.0 assets with the Khronos glTF-Validator (npm package gltf-validator).
// Usage: node gltf_validate.js <folder holding node_modules/gltf-validator> <file>...
// Prints one JSON array: the validator's report for each file, in order. Exit code 2 on
// bad arguments or when the validator rejects an input outright (format not recognised).
"use strict";
const fs = require("fs");
const path = require("path");

async function main() {
    const [prefix, ...files] = process.argv.slice(2);
    if (!prefix || files.length === 0) {
        console.error("usage: node gltf_validate.js <prefix> <file>...");
        process.exit(2);
    }
    const validator = require(path.join(path.resolve(prefix), "node_modules", "gltf-validator"));
    const reports = [];
    for (const file of files) {
        const bytes = new Uint8Array(fs.readFileSync(file));
        const report = await validator.validateBytes(bytes, {
            uri: path.basename(file),
            maxIssues: 0,               // every issue
            writeTimestamp: false,
            // .gltf files may name external buffers and images next to them
            externalResourceFunction: (uri) => new Promise((resolve, reject) => {
                fs.readFile(path.resolve(path.dirname(file), decodeURIComponent(uri)),
                            (err, data) => (err ? reject(err.toString()) : resolve(new Uint8Array(data))));
            }),
        });
        reports.push(report);
    }
    process.stdout.write(JSON.stringify(reports));
}

main().catch((err) => {
    console.error("gltf-validator failed: " + err);
    process.exit(2);
});
