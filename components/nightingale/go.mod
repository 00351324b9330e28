module github.com/ai-infra-matrix/matrix/components/nightingale

go 1.26
