import { hostileSuite, suiteOptions } from './suite.js';

// 40 documents × 20 cases = 800 hostile AsyncAPI 2.6 cases (with generator-v3: 2,000 in all).
hostileSuite(suiteOptions('2.6.0', 40, 20_250_302));
