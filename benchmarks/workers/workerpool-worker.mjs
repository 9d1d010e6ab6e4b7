import workerpool from 'workerpool';
workerpool.worker({ addOne: (x) => x + 1 });
