// A raw child_process IPC echo loop: the floor process mode pays.
process.on('message', (batch) => process.send(batch.map((x) => x + 1)));
process.on('disconnect', () => process.exit(0));
