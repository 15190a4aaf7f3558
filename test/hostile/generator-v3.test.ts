import { hostileSuite, suiteOptions } from './suite.js';

// 60 documents × 20 cases = 1,200 hostile AsyncAPI 3.0 cases (with generator-v2: 2,000 in all).
hostileSuite(suiteOptions('3.0.0', 60, 20_250_301));
